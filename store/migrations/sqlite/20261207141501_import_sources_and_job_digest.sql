-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Add column "password_source" to table: "users"
ALTER TABLE `users` ADD COLUMN `password_source` text NULL;
-- Create "new_import_jobs" table
CREATE TABLE `new_import_jobs` (`id` text NOT NULL, `admin_id` text NOT NULL, `idempotency_key` text NULL, `mode` text NOT NULL, `dry_run` bool NOT NULL, `status` text NOT NULL, `cancel_requested` bool NOT NULL DEFAULT (false), `reason` text NOT NULL DEFAULT (''), `lines` integer NOT NULL DEFAULT (0), `created` integer NOT NULL DEFAULT (0), `updated` integer NOT NULL DEFAULT (0), `unchanged` integer NOT NULL DEFAULT (0), `failed` integer NOT NULL DEFAULT (0), `bytes` integer NOT NULL DEFAULT (0), `request_digest` text NOT NULL DEFAULT (''), `started_at` datetime NOT NULL, `heartbeat` datetime NOT NULL, `finished_at` datetime NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "import_jobs" to new temporary table "new_import_jobs"
INSERT INTO `new_import_jobs` (`id`, `admin_id`, `idempotency_key`, `mode`, `dry_run`, `status`, `cancel_requested`, `reason`, `lines`, `created`, `updated`, `unchanged`, `failed`, `started_at`, `heartbeat`, `finished_at`) SELECT `id`, `admin_id`, `idempotency_key`, `mode`, `dry_run`, `status`, `cancel_requested`, `reason`, `lines`, `created`, `updated`, `unchanged`, `failed`, `started_at`, `heartbeat`, `finished_at` FROM `import_jobs`;
-- Drop "import_jobs" table after copying rows
DROP TABLE `import_jobs`;
-- Rename temporary table "new_import_jobs" to "import_jobs"
ALTER TABLE `new_import_jobs` RENAME TO `import_jobs`;
-- Create index "importjob_admin_id_idempotency_key" to table: "import_jobs"
CREATE UNIQUE INDEX `importjob_admin_id_idempotency_key` ON `import_jobs` (`admin_id`, `idempotency_key`);
-- Create index "importjob_finished_at" to table: "import_jobs"
CREATE INDEX `importjob_finished_at` ON `import_jobs` (`finished_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
