-- Modify "tokens" table
ALTER TABLE "tokens" ADD COLUMN "scope" character varying NOT NULL DEFAULT '';
-- Modify "user_groups" table
ALTER TABLE "user_groups" ADD COLUMN "scim" jsonb NULL;
-- Modify "users" table
ALTER TABLE "users" ALTER COLUMN "email_key" DROP NOT NULL, ADD COLUMN "user_name" character varying NULL, ADD COLUMN "scim" jsonb NULL;
