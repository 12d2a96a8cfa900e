import { z } from 'zod';

/** A BullMQ queue name: non-empty, at most 200 characters, no ':' (BullMQ uses ':' in its keys). */
export const queueNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((v) => !v.includes(':'), { error: 'must not contain ":" (BullMQ uses it in its Redis keys)' })
  .refine((v) => v.trim() === v, { error: 'must not start or end with whitespace' });
