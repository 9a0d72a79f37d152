-- A revision per dossier, bumped by every UPDATE of its row, in the same
-- transaction: the version the gateway's read cache is kept exact by
-- (lib/gch_cache.h). A trigger rather than "revision = revision + 1" in
-- each statement, so no future statement can forget it.

ALTER TABLE dossier ADD COLUMN revision bigint NOT NULL DEFAULT 1;

CREATE FUNCTION dossier_revision_bump () RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER dossier_revision BEFORE UPDATE ON dossier
    FOR EACH ROW EXECUTE FUNCTION dossier_revision_bump ();
