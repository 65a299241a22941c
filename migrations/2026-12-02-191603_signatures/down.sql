DROP TABLE membership_signatures;
DROP FUNCTION membership_signatures_guard();
