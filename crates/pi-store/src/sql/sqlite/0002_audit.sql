-- privacyIDEA's audit table (`pidea_audit`) on SQLite, as its
-- `create_tables` writes it (the id is the rowid).
CREATE TABLE IF NOT EXISTS pidea_audit (
	id INTEGER NOT NULL, 
	date DATETIME, 
	startdate DATETIME, 
	duration DATETIME, 
	signature VARCHAR(1100), 
	action VARCHAR(200), 
	success INTEGER, 
	authentication VARCHAR(12), 
	serial VARCHAR(200), 
	token_type VARCHAR(12), 
	container_serial VARCHAR(40), 
	container_type VARCHAR(100), 
	user VARCHAR(100), 
	realm VARCHAR(255), 
	resolver VARCHAR(255), 
	administrator VARCHAR(100), 
	action_detail VARCHAR(500), 
	info VARCHAR(500), 
	privacyidea_server VARCHAR(255), 
	client VARCHAR(50), 
	user_agent VARCHAR(50), 
	user_agent_version VARCHAR(20), 
	loglevel VARCHAR(12), 
	clearance_level VARCHAR(12), 
	thread_id VARCHAR(20), 
	policies VARCHAR(255), 
	PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_pidea_audit_date ON pidea_audit (date);
CREATE INDEX IF NOT EXISTS ix_pidea_audit_user ON pidea_audit (user);
