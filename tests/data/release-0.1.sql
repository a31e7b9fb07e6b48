BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0004');
CREATE TABLE api_tokens (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(200), 
	role VARCHAR(20) NOT NULL, 
	secret_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME, 
	revoked_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "api_tokens" VALUES('fd23f1969f672783','rt-05','viewer','b9accb5b756d288f39d24d4bf7079bff5f7dc57b48ed4e8a224cab39504be047','2026-12-01 09:06:52.128389',NULL,NULL);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	principal_id VARCHAR(200) NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	camera_id VARCHAR(250), 
	allowed BOOLEAN NOT NULL, 
	reason TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE camera_status (
	id INTEGER NOT NULL, 
	camera_id VARCHAR(250) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	at DATETIME NOT NULL, 
	reason TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "camera_status" VALUES(1,'demo:D1:1','online','2026-12-01 09:06:52.000000',NULL);
CREATE TABLE cameras (
	id VARCHAR(250) NOT NULL, 
	device_id VARCHAR(200) NOT NULL, 
	data JSON NOT NULL, 
	first_seen DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	removed_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "cameras" VALUES('demo:D1:1','demo:D1','{"id": "demo:D1:1", "device_id": "demo:D1", "channel": 1, "name": "Gerbang", "status": "unknown", "tags": [], "area": null, "site": null, "owner": null, "location": null, "direction": null, "streams": []}','2026-12-01 09:06:52.134018','2026-12-01 09:06:52.134018',NULL);
CREATE TABLE devices (
	id VARCHAR(200) NOT NULL, 
	source VARCHAR(100) NOT NULL, 
	data JSON NOT NULL, 
	first_seen DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	removed_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "devices" VALUES('demo:D1','demo','{"id": "demo:D1", "source": "demo", "vendor": "Pantau", "model": "Demo", "serial": "D1", "firmware": null, "kind": "camera", "host": "synthetic", "owner": null, "site": null}','2026-12-01 09:06:52.134018','2026-12-01 09:06:52.134018',NULL);
CREATE TABLE events (
	id VARCHAR(64) NOT NULL, 
	camera_id VARCHAR(250), 
	kind VARCHAR(40) NOT NULL, 
	at DATETIME NOT NULL, 
	data JSON NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	notifier VARCHAR(100) NOT NULL, 
	event_id VARCHAR(64) NOT NULL, 
	camera_id VARCHAR(250), 
	payload JSON NOT NULL, 
	state VARCHAR(12) NOT NULL, 
	attempts INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	done_at DATETIME, 
	last_error TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_outbox_notifier_event UNIQUE (notifier, event_id)
);
CREATE TABLE reports (
	id VARCHAR(32) NOT NULL, 
	notifier VARCHAR(100) NOT NULL, 
	rule VARCHAR(100) NOT NULL, 
	camera_id VARCHAR(250), 
	state VARCHAR(12) NOT NULL, 
	open_key VARCHAR(500), 
	service_code VARCHAR(100) NOT NULL, 
	external_id VARCHAR(200), 
	description TEXT NOT NULL, 
	media_url TEXT, 
	trigger_at DATETIME NOT NULL, 
	event_id VARCHAR(64), 
	occurrences INTEGER NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	filed_at DATETIME, 
	deadline DATETIME, 
	closed_at DATETIME, 
	status_notes TEXT, 
	agency_responsible VARCHAR(200), 
	escalations JSON NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	last_error TEXT, 
	data JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "reports" VALUES('rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr','jaki','tamper','demo:D1:1','open','jaki|tamper|demo:D1:1','CCTV','JAKI-77','Kamera ditutup',NULL,'2026-12-01 09:06:52.000000',NULL,1,'2026-12-01 09:06:52.000000','2026-12-01 09:06:52.000000','2026-12-01 09:06:52.000000','2026-12-07 09:06:52.000000',NULL,NULL,NULL,'[]',0,'2026-12-01 09:06:52.000000',NULL,'{}');
CREATE TABLE segments (
	id INTEGER NOT NULL, 
	camera_id VARCHAR(250) NOT NULL, 
	stream_role VARCHAR(20) NOT NULL, 
	start DATETIME NOT NULL, 
	"end" DATETIME NOT NULL, 
	duration FLOAT NOT NULL, 
	size BIGINT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	storage_key VARCHAR(500) NOT NULL, 
	locked BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (storage_key)
);
INSERT INTO "segments" VALUES(1,'demo:D1:1','main','2026-12-01 09:06:52.000000','2026-12-01 09:07:02.000000',10.0,1234,'abababababababababababababababababababababababababababababababab','recordings/demo_D1_1/x-main.mp4',1);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_cameras_device_id ON cameras (device_id);
CREATE INDEX ix_devices_source ON devices (source);
CREATE INDEX ix_events_at ON events (at);
CREATE INDEX ix_events_camera_id ON events (camera_id);
CREATE INDEX ix_segments_camera_id ON segments (camera_id);
CREATE INDEX ix_segments_start ON segments (start);
CREATE INDEX ix_outbox_due ON outbox (notifier, state, id);
CREATE INDEX ix_camera_status_at ON camera_status (at);
CREATE INDEX ix_camera_status_camera_id ON camera_status (camera_id);
CREATE INDEX ix_reports_camera_id ON reports (camera_id);
CREATE UNIQUE INDEX ix_reports_open_key ON reports (open_key);
CREATE INDEX ix_reports_state ON reports (state);
COMMIT;
