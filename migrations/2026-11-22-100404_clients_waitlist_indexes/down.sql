DROP INDEX memberships_screening_idx;
DROP INDEX clients_sort_idx;
