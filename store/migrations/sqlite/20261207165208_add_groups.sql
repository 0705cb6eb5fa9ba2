-- Create "user_groups" table
CREATE TABLE `user_groups` (`id` text NOT NULL, `display_name` text NOT NULL, `display_name_key` text NOT NULL, `external_id` text NULL, `version` integer NOT NULL DEFAULT (1), `created` datetime NOT NULL, `modified` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "user_groups_display_name_key_key" to table: "user_groups"
CREATE UNIQUE INDEX `user_groups_display_name_key_key` ON `user_groups` (`display_name_key`);
-- Create "group_members" table
CREATE TABLE `group_members` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `group_id` text NOT NULL, `user_id` text NOT NULL, CONSTRAINT `group_members_user_groups_memberships` FOREIGN KEY (`group_id`) REFERENCES `user_groups` (`id`) ON DELETE CASCADE, CONSTRAINT `group_members_users_memberships` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "groupmember_group_id_user_id" to table: "group_members"
CREATE UNIQUE INDEX `groupmember_group_id_user_id` ON `group_members` (`group_id`, `user_id`);
-- Create index "groupmember_user_id" to table: "group_members"
CREATE INDEX `groupmember_user_id` ON `group_members` (`user_id`);
