-- privacyIDEA's audit table (`pidea_audit`) on MariaDB, as its
-- `create_tables` writes it: ids from the SEQUENCE `audit_seq`.
CREATE SEQUENCE IF NOT EXISTS audit_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS pidea_audit (
  `id` bigint(20) NOT NULL,
  `date` datetime(6) DEFAULT NULL,
  `startdate` datetime(6) DEFAULT NULL,
  `duration` datetime(6) DEFAULT NULL,
  `signature` varchar(1100) DEFAULT NULL,
  `action` varchar(200) DEFAULT NULL,
  `success` int(11) DEFAULT NULL,
  `authentication` varchar(12) DEFAULT NULL,
  `serial` varchar(200) DEFAULT NULL,
  `token_type` varchar(12) DEFAULT NULL,
  `container_serial` varchar(40) DEFAULT NULL,
  `container_type` varchar(100) DEFAULT NULL,
  `user` varchar(100) DEFAULT NULL,
  `realm` varchar(255) DEFAULT NULL,
  `resolver` varchar(255) DEFAULT NULL,
  `administrator` varchar(100) DEFAULT NULL,
  `action_detail` varchar(500) DEFAULT NULL,
  `info` varchar(500) DEFAULT NULL,
  `privacyidea_server` varchar(255) DEFAULT NULL,
  `client` varchar(50) DEFAULT NULL,
  `user_agent` varchar(50) DEFAULT NULL,
  `user_agent_version` varchar(20) DEFAULT NULL,
  `loglevel` varchar(12) DEFAULT NULL,
  `clearance_level` varchar(12) DEFAULT NULL,
  `thread_id` varchar(20) DEFAULT NULL,
  `policies` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_pidea_audit_date` (`date`),
  KEY `ix_pidea_audit_user` (`user`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
