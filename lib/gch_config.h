//  gch_config - configuration from the environment, from one table per
//  process. Nobody else calls getenv. Values are printed at start with
//  secrets masked.
#ifndef GCH_CONFIG_H_INCLUDED
#define GCH_CONFIG_H_INCLUDED

typedef struct {
    const char *name;      //  environment variable, "GCH_BUS"
    const char *fallback;  //  value when unset
    const char *help;      //  one line for --help and the start banner
    bool secret;           //  mask when printed
} gch_config_entry_t;

typedef struct _gch_config_t gch_config_t;

//  Read every entry of the NULL-terminated table from the environment.
gch_config_t *gch_config_new (const gch_config_entry_t *table);
void gch_config_destroy (gch_config_t **self_p);

//  Borrowed value of a variable named in the table; asserts it is there.
const char *gch_config_get (gch_config_t *self, const char *name);
int gch_config_int (gch_config_t *self, const char *name);

//  Log every value at notice level, secrets masked.
void gch_config_log (gch_config_t *self);

//  Print the table as help to stdout.
void gch_config_help (const gch_config_entry_t *table);

void gch_config_test (bool verbose);

#endif
