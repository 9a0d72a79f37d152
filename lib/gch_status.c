//  gch_status - the one status registry. Each Gch__Status has an HTTP status,
//  a stable lower-case code used in the JSON error format, and a default
//  French message. To add a status: add it to proto/status.proto, then one
//  row here; the gateway needs nothing else.
#include "gch.h"

typedef struct {
    int status;
    int http;
    const char *code;
    const char *message;
} s_status_t;

static const s_status_t s_statuses[] = {
    {GCH__STATUS__STATUS_OK, 200, "ok", "OK"},
    {GCH__STATUS__STATUS_CREATED, 201, "created", "Créé"},
    {GCH__STATUS__STATUS_ACCEPTED, 202, "accepted", "Demande acceptée"},
    {GCH__STATUS__STATUS_INVALID, 400, "invalid", "Requête invalide"},
    {GCH__STATUS__STATUS_UNAUTHENTICATED, 401, "unauthenticated",
     "Authentification requise"},
    {GCH__STATUS__STATUS_FORBIDDEN, 403, "forbidden", "Accès refusé"},
    {GCH__STATUS__STATUS_NOT_FOUND, 404, "not_found", "Introuvable"},
    {GCH__STATUS__STATUS_CONFLICT, 409, "conflict",
     "Conflit avec l'état actuel"},
    {GCH__STATUS__STATUS_TOO_LARGE, 413, "too_large",
     "Requête trop volumineuse"},
    {GCH__STATUS__STATUS_UNSUPPORTED, 415, "unsupported",
     "Type de contenu non pris en charge"},
    {GCH__STATUS__STATUS_UNPROCESSABLE, 422, "unprocessable",
     "Données refusées"},
    {GCH__STATUS__STATUS_RATE_LIMITED, 429, "rate_limited",
     "Trop de tentatives, réessayez plus tard"},
    {GCH__STATUS__STATUS_INTERNAL, 500, "internal", "Erreur interne"},
    {GCH__STATUS__STATUS_UNAVAILABLE, 503, "unavailable",
     "Service momentanément indisponible"},
    {GCH__STATUS__STATUS_TIMEOUT, 504, "timeout",
     "Le service n'a pas répondu à temps"},
    {GCH__STATUS__STATUS_METHOD_NOT_ALLOWED, 405, "method_not_allowed",
     "Méthode non autorisée"},
};

static const s_status_t *
s_lookup (int status)
{
    for (size_t i = 0; i < sizeof s_statuses / sizeof s_statuses[0]; i++)
        if (s_statuses[i].status == status)
            return &s_statuses[i];
    return NULL;
}

int
gch_status_http (int status)
{
    const s_status_t *entry = s_lookup (status);
    return entry ? entry->http : 500;
}

const char *
gch_status_code (int status)
{
    const s_status_t *entry = s_lookup (status);
    return entry ? entry->code : "internal";
}

const char *
gch_status_message (int status)
{
    const s_status_t *entry = s_lookup (status);
    return entry ? entry->message : "Erreur interne";
}

bool
gch_status_ok (int status)
{
    int http = gch_status_http (status);
    return http >= 200 && http < 300;
}

void
gch_status_test (bool verbose)
{
    (void) verbose;
    printf (" * gch_status: ");
    assert (gch_status_http (GCH__STATUS__STATUS_CONFLICT) == 409);
    assert (gch_status_http (GCH__STATUS__STATUS_OK) == 200);
    assert (gch_status_http (9999) == 500);
    assert (
        streq (gch_status_code (GCH__STATUS__STATUS_NOT_FOUND), "not_found"));
    assert (gch_status_ok (GCH__STATUS__STATUS_CREATED));
    assert (!gch_status_ok (GCH__STATUS__STATUS_INVALID));
    //  Every enum value of the proto has a row, and HTTP codes are distinct
    for (unsigned i = 0; i < gch__status__descriptor.n_values; i++) {
        int value = gch__status__descriptor.values[i].value;
        assert (s_lookup (value));
        for (unsigned j = 0; j < i; j++)
            assert (gch_status_http (gch__status__descriptor.values[j].value) !=
                    gch_status_http (value));
    }
    printf ("OK\n");
}
