-- Lookups of the HTTP API: children of an application (by its children's parent and spawning
-- pointers), the newest successful job of each project (/metrics), and annotations by step.
CREATE INDEX application_parent ON application(project_id, parent_app_id);
CREATE INDEX application_spawn ON application(project_id, spawn_app_id);
CREATE INDEX indexing_job_project ON indexing_job(project_id, status, end_time);
CREATE INDEX object_application ON object(application_id);
