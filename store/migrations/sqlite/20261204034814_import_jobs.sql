-- Create "import_errors" table
CREATE TABLE `import_errors` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `job_id` text NOT NULL, `line` integer NOT NULL, `field` text NOT NULL, `code` text NOT NULL, `message` text NOT NULL);
-- Create index "importerror_job_id_line" to table: "import_errors"
CREATE INDEX `importerror_job_id_line` ON `import_errors` (`job_id`, `line`);
-- Create "import_jobs" table
CREATE TABLE `import_jobs` (`id` text NOT NULL, `admin_id` text NOT NULL, `idempotency_key` text NULL, `mode` text NOT NULL, `dry_run` bool NOT NULL, `status` text NOT NULL, `cancel_requested` bool NOT NULL DEFAULT (false), `reason` text NOT NULL DEFAULT (''), `lines` integer NOT NULL DEFAULT (0), `created` integer NOT NULL DEFAULT (0), `updated` integer NOT NULL DEFAULT (0), `unchanged` integer NOT NULL DEFAULT (0), `failed` integer NOT NULL DEFAULT (0), `started_at` datetime NOT NULL, `heartbeat` datetime NOT NULL, `finished_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "importjob_admin_id_idempotency_key" to table: "import_jobs"
CREATE UNIQUE INDEX `importjob_admin_id_idempotency_key` ON `import_jobs` (`admin_id`, `idempotency_key`);
