-- Modify "import_jobs" table
ALTER TABLE "import_jobs" ADD COLUMN "bytes" bigint NOT NULL DEFAULT 0, ADD COLUMN "request_digest" character varying NOT NULL DEFAULT '';
-- Create index "importjob_finished_at" to table: "import_jobs"
CREATE INDEX "importjob_finished_at" ON "import_jobs" ("finished_at");
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "password_source" character varying NULL;
