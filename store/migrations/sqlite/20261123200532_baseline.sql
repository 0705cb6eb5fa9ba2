-- Create "audits" table
CREATE TABLE `audits` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `user_id` text NOT NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `action` text NOT NULL, `address` text NOT NULL, `patch` json NOT NULL);
-- Create index "audit_user_id_id" to table: "audits"
CREATE INDEX `audit_user_id_id` ON `audits` (`user_id`, `id`);
-- Create "tokens" table
CREATE TABLE `tokens` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `hash` text NOT NULL, `label` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `expires_at` datetime NULL, `last_used` datetime NULL, `revoked` bool NOT NULL DEFAULT (false), `kind` text NOT NULL DEFAULT ('token'), `user_id` text NOT NULL, CONSTRAINT `tokens_users_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "tokens_hash_key" to table: "tokens"
CREATE UNIQUE INDEX `tokens_hash_key` ON `tokens` (`hash`);
-- Create index "token_user_id_kind" to table: "tokens"
CREATE INDEX `token_user_id_kind` ON `tokens` (`user_id`, `kind`);
-- Create "usages" table
CREATE TABLE `usages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `user_id` text NOT NULL, `day` text NOT NULL, `count` integer NOT NULL DEFAULT (0));
-- Create index "usage_user_id_day" to table: "usages"
CREATE UNIQUE INDEX `usage_user_id_day` ON `usages` (`user_id`, `day`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `name` text NOT NULL, `email` text NOT NULL, `email_key` text NOT NULL, `country` text NOT NULL, `time_zone` text NOT NULL, `description` text NULL, `message` text NULL, `disabled` bool NOT NULL DEFAULT (false), `disabled_message` text NULL, `tags` json NOT NULL, `privileges` json NOT NULL, `user_group` text NULL, `device_id` text NULL, `admin_devices` integer NOT NULL DEFAULT (0), `valid_from` datetime NULL, `valid_until` datetime NULL, `creation` datetime NOT NULL, `modification` datetime NOT NULL, `last_login` datetime NULL, `password_hash` text NULL, `role` text NOT NULL DEFAULT ('user'), `deleted_at` datetime NULL, `version` integer NOT NULL DEFAULT (1), `daily_quota` integer NULL, PRIMARY KEY (`id`));
-- Create index "users_email_key_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key_key` ON `users` (`email_key`);
-- Create index "user_creation_id" to table: "users"
CREATE INDEX `user_creation_id` ON `users` (`creation`, `id`);
