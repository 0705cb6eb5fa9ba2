-- Add column "api_key_id" to table: "tokens"
ALTER TABLE `tokens` ADD COLUMN `api_key_id` integer NULL;
-- Create "signin_failures" table
CREATE TABLE `signin_failures` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `at` integer NOT NULL);
-- Create index "signinfailure_key_at" to table: "signin_failures"
CREATE INDEX `signinfailure_key_at` ON `signin_failures` (`key`, `at`);
-- Create index "signinfailure_at" to table: "signin_failures"
CREATE INDEX `signinfailure_at` ON `signin_failures` (`at`);
