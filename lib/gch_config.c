//  gch_config - configuration from the environment, one table per process.
//  Values are read once at start; nobody else calls getenv.
#include "gch.h"

struct _gch_config_t {
    const gch_config_entry_t *table;  //  borrowed, static
    char **values;                    //  one per entry, owned
    size_t size;
};

gch_config_t *
gch_config_new (const gch_config_entry_t *table)
{
    assert (table);
    gch_config_t *self = (gch_config_t *) zmalloc (sizeof (gch_config_t));
    self->table = table;
    while (table[self->size].name)
        self->size++;
    self->values = (char **) zmalloc (sizeof (char *) * (self->size + 1));
    for (size_t i = 0; i < self->size; i++) {
        const char *value = getenv (table[i].name);
        self->values[i] = strdup (value ? value : table[i].fallback);
    }
    return self;
}

void
gch_config_destroy (gch_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        gch_config_t *self = *self_p;
        for (size_t i = 0; i < self->size; i++)
            free (self->values[i]);
        free (self->values);
        free (self);
        *self_p = NULL;
    }
}

const char *
gch_config_get (gch_config_t *self, const char *name)
{
    assert (self);
    for (size_t i = 0; i < self->size; i++)
        if (streq (self->table[i].name, name))
            return self->values[i];
    assert (!"configuration variable not in the table");
    return NULL;
}

int
gch_config_int (gch_config_t *self, const char *name)
{
    return atoi (gch_config_get (self, name));
}

void
gch_config_log (gch_config_t *self)
{
    for (size_t i = 0; i < self->size; i++)
        zsys_notice ("config %s=%s", self->table[i].name,
                     self->table[i].secret ? "********" : self->values[i]);
}

void
gch_config_help (const gch_config_entry_t *table)
{
    for (; table->name; table++)
        printf ("  %-20s %s (default: %s)\n", table->name, table->help,
                table->secret ? "********" : table->fallback);
}

void
gch_config_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_config: ");
    static const gch_config_entry_t table[] = {
        {"GCH_TEST_A", "alpha", "first", false},
        {"GCH_TEST_B", "7", "second", true},
        {NULL, NULL, NULL, false},
    };
    setenv ("GCH_TEST_A", "set", 1);
    unsetenv ("GCH_TEST_B");
    gch_config_t *config = gch_config_new (table);
    assert (streq (gch_config_get (config, "GCH_TEST_A"), "set"));
    assert (gch_config_int (config, "GCH_TEST_B") == 7);
    gch_config_destroy (&config);
    gch_config_destroy (&config);
    assert (config == NULL);
    unsetenv ("GCH_TEST_A");
    printf ("OK\n");
}
