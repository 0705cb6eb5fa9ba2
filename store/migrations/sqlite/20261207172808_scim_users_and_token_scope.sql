-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_tokens" table
CREATE TABLE `new_tokens` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `hash` text NOT NULL, `label` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `expires_at` datetime NULL, `last_used` datetime NULL, `revoked` bool NOT NULL DEFAULT (false), `kind` text NOT NULL DEFAULT ('token'), `api_key_id` integer NULL, `scope` text NOT NULL DEFAULT (''), `user_id` text NOT NULL, CONSTRAINT `tokens_users_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "tokens" to new temporary table "new_tokens"
INSERT INTO `new_tokens` (`id`, `hash`, `label`, `created_at`, `expires_at`, `last_used`, `revoked`, `kind`, `api_key_id`, `user_id`) SELECT `id`, `hash`, `label`, `created_at`, `expires_at`, `last_used`, `revoked`, `kind`, `api_key_id`, `user_id` FROM `tokens`;
-- Drop "tokens" table after copying rows
DROP TABLE `tokens`;
-- Rename temporary table "new_tokens" to "tokens"
ALTER TABLE `new_tokens` RENAME TO `tokens`;
-- Create index "tokens_hash_key" to table: "tokens"
CREATE UNIQUE INDEX `tokens_hash_key` ON `tokens` (`hash`);
-- Create index "token_user_id_kind" to table: "tokens"
CREATE INDEX `token_user_id_kind` ON `tokens` (`user_id`, `kind`);
-- Create "new_users" table
CREATE TABLE `new_users` (`id` text NOT NULL, `name` text NOT NULL, `email` text NOT NULL, `email_key` text NULL, `user_name` text NULL, `country` text NOT NULL, `time_zone` text NOT NULL, `description` text NULL, `message` text NULL, `disabled` bool NOT NULL DEFAULT (false), `disabled_message` text NULL, `tags` json NOT NULL, `privileges` json NOT NULL, `user_group` text NULL, `device_id` text NULL, `admin_devices` integer NOT NULL DEFAULT (0), `valid_from` datetime NULL, `valid_until` datetime NULL, `creation` datetime NOT NULL, `modification` datetime NOT NULL, `last_login` datetime NULL, `password_hash` text NULL, `password_source` text NULL, `role` text NOT NULL DEFAULT ('user'), `deleted_at` datetime NULL, `version` integer NOT NULL DEFAULT (1), `scim` json NULL, `daily_quota` integer NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `name`, `email`, `email_key`, `country`, `time_zone`, `description`, `message`, `disabled`, `disabled_message`, `tags`, `privileges`, `user_group`, `device_id`, `admin_devices`, `valid_from`, `valid_until`, `creation`, `modification`, `last_login`, `password_hash`, `password_source`, `role`, `deleted_at`, `version`, `daily_quota`) SELECT `id`, `name`, `email`, `email_key`, `country`, `time_zone`, `description`, `message`, `disabled`, `disabled_message`, `tags`, `privileges`, `user_group`, `device_id`, `admin_devices`, `valid_from`, `valid_until`, `creation`, `modification`, `last_login`, `password_hash`, `password_source`, `role`, `deleted_at`, `version`, `daily_quota` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "users_email_key_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key_key` ON `users` (`email_key`);
-- Create index "user_creation_id" to table: "users"
CREATE INDEX `user_creation_id` ON `users` (`creation`, `id`);
-- Add column "scim" to table: "user_groups"
ALTER TABLE `user_groups` ADD COLUMN `scim` json NULL;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
