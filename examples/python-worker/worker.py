"""Example BullMQ-for-Python consumer behind sfn-bullmq-bridge.

Consumes the demo's `payments` queue (activity charge-card). Contract with the bridge:
  job.data             -> the Step Functions task input (parsed JSON)
  return value         -> SendTaskSuccess output (JSON, <= 262,144 bytes)
  raise                -> SendTaskFailure after the job's attempts; error = exception class name,
                          cause = str(exception)
  job.updateProgress() -> SendTaskHeartbeat (the bridge throttles it)
The task token never reaches this process.

    pip install -r requirements.txt
    REDIS_URL=redis://127.0.0.1:6379 QUEUE=payments python worker.py
"""
import asyncio
import os
import signal

from bullmq import Worker

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
PREFIX = os.environ.get("BULLMQ_PREFIX", "bull")  # must equal the bridge's BULLMQ_PREFIX
QUEUE = os.environ.get("QUEUE", "payments")
CONCURRENCY = int(os.environ.get("CONCURRENCY", "4"))
SHUTDOWN_TIMEOUT_S = float(os.environ.get("SHUTDOWN_TIMEOUT_S", "25"))


class PaymentDeclined(Exception):
    """Business failure. Step Functions sees error "PaymentDeclined", so a Catch on it matches."""


async def process(job, job_token):
    order = job.data
    if not isinstance(order, dict):
        raise ValueError(f"expected a JSON object as input, got {type(order).__name__}")

    await job.updateProgress(10)  # a heartbeat: the task is alive while we work

    if str(order.get("card", "")).startswith("4000"):
        raise PaymentDeclined("card declined")

    await asyncio.sleep(0.2)  # stands in for the call to the payment provider
    await job.updateProgress(100)

    return {
        "orderId": order.get("orderId"),
        "amountCents": order.get("amountCents"),
        "status": "charged",
    }


async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # Created inside the running loop: the worker starts consuming at once (autorun).
    worker = Worker(QUEUE, process, {
        "connection": REDIS_URL,
        "prefix": PREFIX,
        "concurrency": CONCURRENCY,
    })
    print(f"python worker: queue={QUEUE} prefix={PREFIX} concurrency={CONCURRENCY}", flush=True)

    await stop.wait()
    print("python worker: stopping, finishing the jobs in hand", flush=True)
    try:
        # close() stops taking jobs and waits for the active ones.
        await asyncio.wait_for(worker.close(), SHUTDOWN_TIMEOUT_S)
    except asyncio.TimeoutError:
        # Unfinished jobs stay active; BullMQ's stalled-job check hands them to another worker.
        await worker.close(force=True)
    print("python worker: closed", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
