-- privacyIDEA 3.14's tables on MariaDB (>= 10.3), exactly as its
-- `pi-manage setup create_tables` creates them there (SHOW CREATE TABLE of a
-- release database, tests/fixtures: privacyidea-3.14-mariadb-schema.sql):
-- ids come from SEQUENCEs that are not column defaults (SQLAlchemy's
-- `Sequence(...)` on MariaDB), the caller writes NEXTVAL(<seq>) itself.
-- Idempotent: every statement is IF NOT EXISTS. Run by Store::ensure_schema
-- under GET_LOCK (MariaDB commits DDL implicitly, no transaction).
CREATE SEQUENCE IF NOT EXISTS description_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS policy_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS policycondition_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS privacyideaserver_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS realm_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS resolver_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS resolverconf_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;
CREATE SEQUENCE IF NOT EXISTS resolverrealm_seq start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 0 cache 1000 nocycle ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS `admin` (
  `username` varchar(120) NOT NULL,
  `password` varchar(255) DEFAULT NULL,
  `email` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`username`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `config` (
  `Key` varchar(255) NOT NULL,
  `Value` varchar(2000) DEFAULT NULL,
  `Type` varchar(2000) DEFAULT NULL,
  `Description` varchar(2000) DEFAULT NULL,
  PRIMARY KEY (`Key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `nodename` (
  `id` varchar(36) NOT NULL,
  `name` varchar(100) DEFAULT NULL,
  `lastseen` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_nodename_name` (`name`),
  KEY `ix_nodename_lastseen` (`lastseen`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `policy` (
  `id` int(11) NOT NULL,
  `active` tinyint(1) DEFAULT NULL,
  `check_all_resolvers` tinyint(1) DEFAULT NULL,
  `name` varchar(64) NOT NULL,
  `user_case_insensitive` tinyint(1) DEFAULT NULL,
  `scope` varchar(32) NOT NULL,
  `action` text DEFAULT NULL,
  `realm` varchar(256) DEFAULT NULL,
  `adminrealm` varchar(256) DEFAULT NULL,
  `adminuser` varchar(256) DEFAULT NULL,
  `resolver` varchar(256) DEFAULT NULL,
  `pinode` varchar(256) DEFAULT NULL,
  `user` varchar(256) DEFAULT NULL,
  `client` varchar(256) DEFAULT NULL,
  `time` varchar(64) DEFAULT NULL,
  `user_agents` varchar(256) DEFAULT NULL,
  `priority` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `description` (
  `id` int(11) NOT NULL,
  `object_id` int(11) NOT NULL,
  `object_type` varchar(64) NOT NULL,
  `last_update` datetime(6) DEFAULT NULL,
  `description` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `object_id` (`object_id`),
  CONSTRAINT `description_ibfk_1` FOREIGN KEY (`object_id`) REFERENCES `policy` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `policycondition` (
  `id` int(11) NOT NULL,
  `policy_id` int(11) NOT NULL,
  `section` varchar(255) NOT NULL,
  `Key` varchar(255) NOT NULL,
  `comparator` varchar(255) NOT NULL,
  `Value` varchar(2000) NOT NULL,
  `active` tinyint(1) NOT NULL,
  `handle_missing_data` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `policy_id` (`policy_id`),
  CONSTRAINT `policycondition_ibfk_1` FOREIGN KEY (`policy_id`) REFERENCES `policy` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `privacyideaserver` (
  `id` int(11) NOT NULL,
  `identifier` varchar(255) NOT NULL,
  `url` varchar(255) NOT NULL,
  `tls` tinyint(1) DEFAULT NULL,
  `description` varchar(2000) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `identifier` (`identifier`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `realm` (
  `id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `default` tinyint(1) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `resolver` (
  `id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `rtype` varchar(255) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `resolverconfig` (
  `id` int(11) NOT NULL,
  `resolver_id` int(11) DEFAULT NULL,
  `Key` varchar(255) NOT NULL,
  `Value` varchar(2000) DEFAULT NULL,
  `Type` varchar(2000) DEFAULT NULL,
  `Description` varchar(2000) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `rcix_2` (`resolver_id`,`Key`),
  CONSTRAINT `resolverconfig_ibfk_1` FOREIGN KEY (`resolver_id`) REFERENCES `resolver` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS `resolverrealm` (
  `id` int(11) NOT NULL,
  `resolver_id` int(11) DEFAULT NULL,
  `realm_id` int(11) DEFAULT NULL,
  `priority` int(11) DEFAULT NULL,
  `node_uuid` varchar(36) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `rrix_2` (`resolver_id`,`realm_id`,`node_uuid`),
  KEY `realm_id` (`realm_id`),
  CONSTRAINT `resolverrealm_ibfk_1` FOREIGN KEY (`resolver_id`) REFERENCES `resolver` (`id`),
  CONSTRAINT `resolverrealm_ibfk_2` FOREIGN KEY (`realm_id`) REFERENCES `realm` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

