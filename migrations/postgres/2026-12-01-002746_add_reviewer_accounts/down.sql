DROP TABLE sign_ins;
DROP TABLE users;
