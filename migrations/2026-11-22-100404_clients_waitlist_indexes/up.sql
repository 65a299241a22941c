-- Issue 4. The client list's keyset order: search_text (last, first, preferred name, accent-free
-- lower case) compared byte-wise, independent of the database's locale, then id.
CREATE INDEX clients_sort_idx ON clients ((search_text COLLATE "C"), id);
-- The waitlist leaves out screenings a membership was already admitted on.
CREATE INDEX memberships_screening_idx ON memberships (screening_id);
