-- privacyIDEA's audit table (`pidea_audit`) on PostgreSQL, as its
-- `create_tables` writes it: ids from `audit_seq` (not a column default;
-- the writer calls nextval itself, as privacyIDEA does).
CREATE SEQUENCE IF NOT EXISTS audit_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
CREATE TABLE IF NOT EXISTS pidea_audit (
    id bigint NOT NULL,
    date timestamp without time zone,
    startdate timestamp without time zone,
    duration interval(6),
    signature character varying(1100),
    action character varying(200),
    success integer,
    authentication character varying(12),
    serial character varying(200),
    token_type character varying(12),
    container_serial character varying(40),
    container_type character varying(100),
    "user" character varying(100),
    realm character varying(255),
    resolver character varying(255),
    administrator character varying(100),
    action_detail character varying(500),
    info character varying(500),
    privacyidea_server character varying(255),
    client character varying(50),
    user_agent character varying(50),
    user_agent_version character varying(20),
    loglevel character varying(12),
    clearance_level character varying(12),
    thread_id character varying(20),
    policies character varying(255),
    CONSTRAINT pidea_audit_pkey PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_pidea_audit_date ON pidea_audit USING btree (date);
CREATE INDEX IF NOT EXISTS ix_pidea_audit_user ON pidea_audit USING btree ("user");
