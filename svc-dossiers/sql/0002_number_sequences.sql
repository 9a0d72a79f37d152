-- Dossier numbers from one sequence per year, instead of a counter row.
--
-- The counter row of 0001 stayed locked from the filing's numbering to its
-- COMMIT, so concurrent filings queued on it: pgbench on the filing SQL
-- made 2,060 filings/s with 2 clients and 542/s with 64. A sequence is
-- never locked. The price: a filing that rolls back leaves a gap in the
-- year's numbers. Numbers stay unique, and increase within a year.

CREATE FUNCTION dossier_number_next (at timestamptz) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    year int := extract(year FROM at AT TIME ZONE 'Europe/Paris')::int;
    counter regclass := to_regclass(format('dossier_number_%s', year));
    n bigint;
BEGIN
    IF counter IS NULL THEN
        --  First filing of a year not created in advance (see below)
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS dossier_number_%s', year);
        counter := to_regclass(format('dossier_number_%s', year));
    END IF;
    n := nextval(counter);
    RETURN year || '-' || lpad(n::text, greatest(6, length(n::text)), '0');
END
$$;
COMMENT ON FUNCTION dossier_number_next (timestamptz) IS
    'Next dossier number "YYYY-NNNNNN" of the year of `at` in Paris time,'
    ' from sequence dossier_number_YYYY (created on first use).';

-- Carry the counters of 0001 over, and create the sequences of the coming
-- years in advance, so that two first filings of a year never race to
-- create one.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT year, last FROM dossier_counter LOOP
        EXECUTE format('CREATE SEQUENCE dossier_number_%s START %s',
                       r.year, r.last + 1);
    END LOOP;
    FOR y IN 2026 .. 2040 LOOP
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS dossier_number_%s', y);
    END LOOP;
END
$$;

DROP TABLE dossier_counter;
