-- The client list's keyset order (issue 4): search_text (last, first, preferred name, accent-free
-- lower case) compared byte-wise, independent of the database's locale, then id.
CREATE INDEX clients_sort_idx ON clients ((search_text COLLATE "C"), id);
