-- Create "usage_flushes" table
CREATE TABLE `usage_flushes` (`id` text NOT NULL, `at` integer NOT NULL, PRIMARY KEY (`id`));
-- Create index "usageflush_at" to table: "usage_flushes"
CREATE INDEX `usageflush_at` ON `usage_flushes` (`at`);
