-- The SQL resolver fixture of spec resolvers-sql-ldap.md §6.2 (SQLite DDL;
-- tests turn `INTEGER PRIMARY KEY` into `SERIAL PRIMARY KEY` for PostgreSQL).
-- The passwords in clear follow each row.
CREATE TABLE users (
  id        INTEGER PRIMARY KEY,
  username  VARCHAR(64) NOT NULL UNIQUE,
  givenname VARCHAR(64),
  surname   VARCHAR(64),
  email     VARCHAR(128),
  phone     VARCHAR(32),
  mobile    VARCHAR(32),
  password  VARCHAR(255),
  active    INTEGER NOT NULL DEFAULT 1
);
INSERT INTO users VALUES (1,'alice','Alice','Example','alice@example.org','+49 111 1111','+49 170 1111','{SSHA256}PK+o2A6gNWVg1npyCERwui/Mb4g30880145NpDST/GlzYWx0QWxpYw==',1); -- alicepw
INSERT INTO users VALUES (2,'bob','Bob','Builder','bob@example.org',NULL,NULL,'{SSHA}UU6x08iOmJMekFYc02fo9Vb+YeJzYWx0Qm9iMQ==',1); -- bobpw
INSERT INTO users VALUES (3,'carol','Carol','Cipher','carol@example.org',NULL,NULL,'{SSHA512}CXavryaYxiYLkGRFpjFyfIN9sfmSetRDswxWKcxjd4vgyWEKXCJP5/Iv0cSkRmuvyUVcCme5vp+m/52uF9EdOnNhbHRDYXJv',1); -- carolpw
INSERT INTO users VALUES (4,'dave','Dave','Digest',NULL,NULL,NULL,'{SHA}89PnY5vApf/eBO88naFp36ozjwo=',1); -- davepw
INSERT INTO users VALUES (5,'eve','Eve','Crypt',NULL,NULL,NULL,'$6$saltEve5$r4bFRDkwPfdxLALssQHmGfgtWChEpz7/lw8Tq21JHcsOFfoBE.9bhP0dS1.dl6APRUt/usvJ3EKRXLVYVEpom1',1); -- evepw
INSERT INTO users VALUES (6,'frank','Frank','Crypt',NULL,NULL,NULL,'$5$saltFrnk$tJ0YYydM6jX7qyyknGztKoXah2TLa7y3GrKoNEnk1m9',1); -- frankpw
INSERT INTO users VALUES (7,'grace','Grace','Md5',NULL,NULL,NULL,'$1$saltGrac$7wmSQCJhUAgUC.EPg5Fy21',1); -- gracepw
INSERT INTO users VALUES (8,'heidi','Heidi','Bcrypt',NULL,NULL,NULL,'$2b$04$saltsaltsaltsaltsaltsO4AzfL3U0Qkr8S8f1nZvPnlAcLP8//Yi',1); -- heidipw
INSERT INTO users VALUES (9,'ivan','Ivan','Owncloud',NULL,NULL,NULL,'1|$2y$04$saltsaltsaltsaltsaltsOlqpim8xfpAYM7CnFjuIUe6BbE01FXNe',1); -- ivanpw
INSERT INTO users VALUES (10,'judy','Judy','Wordpress',NULL,NULL,NULL,'$P$6saltJudyh/jZjRc3CCRwaFxIz34dB0',1); -- judypw
INSERT INTO users VALUES (11,'mallory','Mallory','Drupal',NULL,NULL,NULL,'$S$DsaltMallWq0qMfCF61Wr3N8MiYMQN4N7rYtPK8T8yNTo/49hqlD',1); -- mallorypw
INSERT INTO users VALUES (12,'oscar','Oscar','Otrs',NULL,NULL,NULL,'cb12d608703613858b2f1526606445975fc34b39ad55c436505ea51210fb94cf',1); -- oscarpw
INSERT INTO users VALUES (13,'peggy','Peggy','Lower',NULL,NULL,NULL,'{ssha}ruvFBzkRurYnYLHxMTxZu8o0Gw5zYWx0UGVnZw==',1); -- peggypw
INSERT INTO users VALUES (14,'trent','Trent','Plain',NULL,NULL,NULL,'trentpw',1); -- plaintext: never accepted
INSERT INTO users VALUES (15,'victor','Victor','Nopass',NULL,NULL,NULL,NULL,1); -- NULL: never accepted
INSERT INTO users VALUES (16,'wal_ter','Walter','Underscore','walter@example.org',NULL,NULL,'{SSHA256}WGMQ/2lK5ucArYYJbNmex55P46wMY0O68RYFYtdEM8xzYWx0V2FsdA==',1); -- walterpw
INSERT INTO users VALUES (17,'walXter','WalXter','Lookalike',NULL,NULL,NULL,'{SSHA256}cVXmtqyVcQbIpWBAyQz7u1RyuVBL9uEAdYCEUZyrPpRzYWx0V2FsWA==',1); -- walxterpw
INSERT INTO users VALUES (18,'zoe','Zoe','Lower',NULL,NULL,NULL,'{SSHA256}sgRf670/yXC4uwbC+FO0QxyxhAWf2Pv0OMUugsYYIT1zYWx0Wm9lMQ==',1); -- zoepw
INSERT INTO users VALUES (19,'ZOE','Zoe','Upper',NULL,NULL,NULL,'{SSHA256}fFF6yHMnhlewED3oX2jkHw/OoO+fbqMRRQ4EZful2JVzYWx0Wk9FMQ==',1); -- ZOEpw
INSERT INTO users VALUES (20,'inactive','In','Active',NULL,NULL,NULL,'{SSHA256}wXu3dbVLTR4JcvQelXYZgTNTCs6DRFK8cVEOA9NTRg9zYWx0SW5hYw==',0); -- inactivepw
