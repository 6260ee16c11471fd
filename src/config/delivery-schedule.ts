/** The retry schedule of webhook deliveries (events/deliveries), and how the config shortens it for tests. */

/**
 * Delays after each failed attempt of a round, in ms: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h,
 * 4 h, 8 h, 8 h, 8 h: 12 attempts over about 31.7 hours (at least 28.5 h with the -10 % jitter),
 * then the delivery is dead.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  5_000,
  30_000,
  120_000,
  600_000,
  1_800_000,
  3_600_000,
  7_200_000,
  14_400_000,
  28_800_000,
  28_800_000,
  28_800_000,
];

/**
 * EVENTS_DELIVERY_RETRY_SCHEDULE_MS (comma-separated delays) replaces the schedule, and
 * EVENTS_DELIVERY_RETRY_SCALE multiplies it (tests and tools); a bad value is a config problem.
 */
export function retrySchedule(env: Record<string, string | undefined>, problems: string[]): number[] {
  let schedule: number[] = [...RETRY_SCHEDULE_MS];
  const explicit = env.EVENTS_DELIVERY_RETRY_SCHEDULE_MS?.trim();
  if (explicit) {
    const steps = explicit.split(',').map((s) => Number(s.trim()));
    if (steps.some((n) => !Number.isFinite(n) || n < 0)) problems.push(`EVENTS_DELIVERY_RETRY_SCHEDULE_MS: "${explicit}" is not a list of delays in ms`);
    else schedule = steps;
  }
  const scale = env.EVENTS_DELIVERY_RETRY_SCALE?.trim();
  if (scale) {
    const factor = Number(scale);
    if (!Number.isFinite(factor) || factor <= 0) problems.push(`EVENTS_DELIVERY_RETRY_SCALE: "${scale}" is not a positive number`);
    else schedule = schedule.map((ms) => Math.round(ms * factor));
  }
  return schedule;
}
