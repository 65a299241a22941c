-- Composition (SPEC §2, v2; TIP 41: no lone member of their kind): a client's gender, optional.
ALTER TABLE clients ADD COLUMN gender TEXT
    CHECK (gender IN ('woman', 'man', 'nonbinary', 'other', 'undisclosed'));
