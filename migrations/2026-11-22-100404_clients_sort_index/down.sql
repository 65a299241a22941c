DROP INDEX clients_sort_idx;
