-- pi-store core schema for SQLite: the tables of privacyIDEA 3.14 that the
-- administration core reads and writes, spelled exactly as privacyIDEA's
-- `pi-manage setup create_tables` creates them. Every statement only creates
-- what is missing, so a database created by privacyIDEA opens unchanged.
CREATE TABLE IF NOT EXISTS admin (
	username VARCHAR(120) NOT NULL, 
	password VARCHAR(255), 
	email VARCHAR(255), 
	PRIMARY KEY (username)
);

CREATE TABLE IF NOT EXISTS config (
	"Key" VARCHAR(255) NOT NULL, 
	"Value" VARCHAR(2000), 
	"Type" VARCHAR(2000), 
	"Description" VARCHAR(2000), 
	PRIMARY KEY ("Key")
);

CREATE TABLE IF NOT EXISTS nodename (
	id VARCHAR(36) NOT NULL, 
	name VARCHAR(100), 
	lastseen DATETIME, 
	PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS policy (
	id INTEGER NOT NULL, 
	active BOOLEAN, 
	check_all_resolvers BOOLEAN, 
	name VARCHAR(64) NOT NULL, 
	user_case_insensitive BOOLEAN, 
	scope VARCHAR(32) NOT NULL, 
	action TEXT, 
	realm VARCHAR(256), 
	adminrealm VARCHAR(256), 
	adminuser VARCHAR(256), 
	resolver VARCHAR(256), 
	pinode VARCHAR(256), 
	user VARCHAR(256), 
	client VARCHAR(256), 
	time VARCHAR(64), 
	user_agents VARCHAR(256), 
	priority INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS policycondition (
	id INTEGER NOT NULL, 
	policy_id INTEGER NOT NULL, 
	section VARCHAR(255) NOT NULL, 
	"Key" VARCHAR(255) NOT NULL, 
	comparator VARCHAR(255) NOT NULL, 
	"Value" VARCHAR(2000) NOT NULL, 
	active BOOLEAN NOT NULL, 
	handle_missing_data VARCHAR(255), 
	PRIMARY KEY (id), 
	FOREIGN KEY(policy_id) REFERENCES policy (id)
);

CREATE TABLE IF NOT EXISTS description (
	id INTEGER NOT NULL, 
	object_id INTEGER NOT NULL, 
	object_type VARCHAR(64) NOT NULL, 
	last_update DATETIME, 
	description TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(object_id) REFERENCES policy (id)
);

CREATE TABLE IF NOT EXISTS privacyideaserver (
	id INTEGER NOT NULL, 
	identifier VARCHAR(255) NOT NULL, 
	url VARCHAR(255) NOT NULL, 
	tls BOOLEAN, 
	description VARCHAR(2000), 
	PRIMARY KEY (id), 
	UNIQUE (identifier)
);

CREATE TABLE IF NOT EXISTS realm (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	"default" BOOLEAN, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS resolver (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	rtype VARCHAR(255) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS resolverconfig (
	id INTEGER NOT NULL, 
	resolver_id INTEGER, 
	"Key" VARCHAR(255) NOT NULL, 
	"Value" VARCHAR(2000), 
	"Type" VARCHAR(2000), 
	"Description" VARCHAR(2000), 
	PRIMARY KEY (id), 
	CONSTRAINT rcix_2 UNIQUE (resolver_id, "Key"), 
	FOREIGN KEY(resolver_id) REFERENCES resolver (id)
);

CREATE TABLE IF NOT EXISTS resolverrealm (
	id INTEGER NOT NULL, 
	resolver_id INTEGER, 
	realm_id INTEGER, 
	priority INTEGER, 
	node_uuid VARCHAR(36), 
	PRIMARY KEY (id), 
	CONSTRAINT rrix_2 UNIQUE (resolver_id, realm_id, node_uuid), 
	FOREIGN KEY(resolver_id) REFERENCES resolver (id), 
	FOREIGN KEY(realm_id) REFERENCES realm (id)
);

CREATE INDEX IF NOT EXISTS ix_nodename_lastseen ON nodename (lastseen);

CREATE INDEX IF NOT EXISTS ix_nodename_name ON nodename (name);
