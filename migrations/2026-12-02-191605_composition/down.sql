ALTER TABLE clients DROP COLUMN gender;
