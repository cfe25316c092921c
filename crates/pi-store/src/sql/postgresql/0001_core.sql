-- pi-store core schema for PostgreSQL: the tables of privacyIDEA 3.14 that the
-- administration core reads and writes, with privacyIDEA's column types,
-- constraint names and id sequences. The sequences are NOT column defaults
-- (privacyIDEA calls nextval itself), so pi-store inserts nextval('<seq>') too.
-- Every statement only creates what is missing, so a database created by
-- privacyIDEA opens unchanged.
CREATE SEQUENCE IF NOT EXISTS description_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS policy_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS policycondition_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS privacyideaserver_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS realm_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS resolver_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS resolverconf_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE SEQUENCE IF NOT EXISTS resolverrealm_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;

CREATE TABLE IF NOT EXISTS admin (
    username character varying(120) NOT NULL,
    password character varying(255),
    email character varying(255),
    CONSTRAINT admin_pkey PRIMARY KEY (username)
);

CREATE TABLE IF NOT EXISTS config (
    "Key" character varying(255) NOT NULL,
    "Value" character varying(2000),
    "Type" character varying(2000),
    "Description" character varying(2000),
    CONSTRAINT config_pkey PRIMARY KEY ("Key")
);

CREATE TABLE IF NOT EXISTS nodename (
    id character varying(36) NOT NULL,
    name character varying(100),
    lastseen timestamp without time zone,
    CONSTRAINT nodename_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS policy (
    id integer NOT NULL,
    active boolean,
    check_all_resolvers boolean,
    name character varying(64) NOT NULL,
    user_case_insensitive boolean,
    scope character varying(32) NOT NULL,
    action text,
    realm character varying(256),
    adminrealm character varying(256),
    adminuser character varying(256),
    resolver character varying(256),
    pinode character varying(256),
    "user" character varying(256),
    client character varying(256),
    "time" character varying(64),
    user_agents character varying(256),
    priority integer NOT NULL,
    CONSTRAINT policy_pkey PRIMARY KEY (id),
    CONSTRAINT policy_name_key UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS policycondition (
    id integer NOT NULL,
    policy_id integer NOT NULL,
    section character varying(255) NOT NULL,
    "Key" character varying(255) NOT NULL,
    comparator character varying(255) NOT NULL,
    "Value" character varying(2000) NOT NULL,
    active boolean NOT NULL,
    handle_missing_data character varying(255),
    CONSTRAINT policycondition_pkey PRIMARY KEY (id),
    CONSTRAINT policycondition_policy_id_fkey FOREIGN KEY (policy_id) REFERENCES policy(id)
);

CREATE TABLE IF NOT EXISTS description (
    id integer NOT NULL,
    object_id integer NOT NULL,
    object_type character varying(64) NOT NULL,
    last_update timestamp without time zone,
    description text,
    CONSTRAINT description_pkey PRIMARY KEY (id),
    CONSTRAINT description_object_id_fkey FOREIGN KEY (object_id) REFERENCES policy(id)
);

CREATE TABLE IF NOT EXISTS privacyideaserver (
    id integer NOT NULL,
    identifier character varying(255) NOT NULL,
    url character varying(255) NOT NULL,
    tls boolean,
    description character varying(2000),
    CONSTRAINT privacyideaserver_pkey PRIMARY KEY (id),
    CONSTRAINT privacyideaserver_identifier_key UNIQUE (identifier)
);

CREATE TABLE IF NOT EXISTS realm (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    "default" boolean,
    CONSTRAINT realm_pkey PRIMARY KEY (id),
    CONSTRAINT realm_name_key UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS resolver (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    rtype character varying(255) NOT NULL,
    CONSTRAINT resolver_pkey PRIMARY KEY (id),
    CONSTRAINT resolver_name_key UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS resolverconfig (
    id integer NOT NULL,
    resolver_id integer,
    "Key" character varying(255) NOT NULL,
    "Value" character varying(2000),
    "Type" character varying(2000),
    "Description" character varying(2000),
    CONSTRAINT resolverconfig_pkey PRIMARY KEY (id),
    CONSTRAINT rcix_2 UNIQUE (resolver_id, "Key"),
    CONSTRAINT resolverconfig_resolver_id_fkey FOREIGN KEY (resolver_id) REFERENCES resolver(id)
);

CREATE TABLE IF NOT EXISTS resolverrealm (
    id integer NOT NULL,
    resolver_id integer,
    realm_id integer,
    priority integer,
    node_uuid character varying(36),
    CONSTRAINT resolverrealm_pkey PRIMARY KEY (id),
    CONSTRAINT rrix_2 UNIQUE (resolver_id, realm_id, node_uuid),
    CONSTRAINT resolverrealm_realm_id_fkey FOREIGN KEY (realm_id) REFERENCES realm(id),
    CONSTRAINT resolverrealm_resolver_id_fkey FOREIGN KEY (resolver_id) REFERENCES resolver(id)
);

CREATE INDEX IF NOT EXISTS ix_nodename_lastseen ON nodename USING btree (lastseen);
CREATE INDEX IF NOT EXISTS ix_nodename_name ON nodename USING btree (name);
