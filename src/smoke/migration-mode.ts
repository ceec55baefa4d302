/**
 * How a migration run moves the connection: on a timer, switching sockets at once (`hard`) or after
 * validating the new path (`validate`), or after every N requests (`every-n`). The smoke stage runs
 * each mode the client offers; the lab runs one timer mode.
 */
export const MIGRATION_MODES = ['hard', 'validate', 'every-n'] as const;
export type MigrationMode = (typeof MIGRATION_MODES)[number];

/** The timer modes: the values of the toy client's `--migrate_mode` flag. */
export const TIMER_MIGRATION_MODES = ['hard', 'validate'] as const satisfies readonly MigrationMode[];
export type TimerMigrationMode = (typeof TIMER_MIGRATION_MODES)[number];
