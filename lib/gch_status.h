//  gch_status - the one status registry: Gch__Status <-> HTTP <-> string.
//  The gateway maps replies to HTTP with this table only.
#ifndef GCH_STATUS_H_INCLUDED
#define GCH_STATUS_H_INCLUDED

//  HTTP status for a bus status; 500 for an unknown value.
int gch_status_http (int status);

//  Stable lower-case code ("not_found"), used in the JSON error format.
const char *gch_status_code (int status);

//  Default French message for a status.
const char *gch_status_message (int status);

//  True for 2xx statuses.
bool gch_status_ok (int status);

void gch_status_test (bool verbose);

#endif
