'use strict';
/**
 * The business logic of the example consumer: an ordinary BullMQ processor. It knows nothing of
 * Step Functions: job.data is the task input, the return value is the output, a thrown error is
 * the failure (its `name` becomes the execution's error), progress is a heartbeat.
 */

/** A custom error: set `name`, or Step Functions sees plain `Error`. */
class PaymentDeclined extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'PaymentDeclined';
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Charges a card. Input: { orderId, amountCents, card, workMs? }.
 * Cards starting with 4000 are declined; workMs simulates a slow charge (with progress).
 * @param {import('bullmq').Job<{ orderId?: string, amountCents?: number, card?: string, workMs?: number }>} job
 */
async function chargeCard(job) {
  const { orderId, amountCents, card = '', workMs = 0 } = job.data || {};
  if (typeof amountCents !== 'number' || amountCents <= 0) {
    throw new TypeError(`amountCents must be a positive number (order ${orderId})`);
  }
  const steps = workMs > 0 ? 4 : 0;
  for (let i = 1; i <= steps; i++) {
    await sleep(workMs / steps);
    await job.updateProgress(Math.round((i / steps) * 100));
  }
  if (String(card).startsWith('4000')) throw new PaymentDeclined(`card ending ${String(card).slice(-4)} declined`);
  return { orderId, amountCents, chargeId: `ch_${String(job.id).slice(0, 12)}`, status: 'charged' };
}

module.exports = { chargeCard, PaymentDeclined };
