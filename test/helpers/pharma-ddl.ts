/** The pharma demo schema's DDL, portable to SQLite, MariaDB/MySQL and PostgreSQL. */
export const PHARMA_DDL = [
  `CREATE TABLE territories (territory_id varchar(16) PRIMARY KEY, territory_name varchar(64), region varchar(32), district varchar(64))`,
  `CREATE TABLE reps (rep_id varchar(16) PRIMARY KEY, rep_name varchar(64), territory_id varchar(16), hire_date date, email varchar(128),
     FOREIGN KEY (territory_id) REFERENCES territories(territory_id))`,
  `CREATE TABLE hcps (hcp_id varchar(16) PRIMARY KEY, npi char(10) UNIQUE, first_name varchar(48), last_name varchar(48), specialty varchar(48),
     city varchar(64), state char(2), territory_id varchar(16), segment char(1), crm_account_id char(18) UNIQUE,
     FOREIGN KEY (territory_id) REFERENCES territories(territory_id))`,
  `CREATE TABLE products (product_id varchar(16) PRIMARY KEY, product_name varchar(64) UNIQUE, manufacturer varchar(64), therapeutic_area varchar(48),
     is_company_product boolean, launch_date date, list_price decimal(10,2))`,
  `CREATE TABLE prescriptions (rx_id bigint PRIMARY KEY, hcp_id varchar(16), product_id varchar(16), week_ending date, payer_type varchar(16),
     trx int, nrx int, quantity int, FOREIGN KEY (hcp_id) REFERENCES hcps(hcp_id), FOREIGN KEY (product_id) REFERENCES products(product_id))`,
  `CREATE TABLE calls (call_id varchar(18) PRIMARY KEY, hcp_id varchar(16), rep_id varchar(16), product_id varchar(16), call_date date,
     channel varchar(16), status varchar(16), duration_minutes int, FOREIGN KEY (hcp_id) REFERENCES hcps(hcp_id),
     FOREIGN KEY (rep_id) REFERENCES reps(rep_id), FOREIGN KEY (product_id) REFERENCES products(product_id))`,
]
