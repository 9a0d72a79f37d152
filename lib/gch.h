//  gch.h - the project header: system headers, czmq, libpq, protobuf-c
//  generated messages, and every lib/ module. Every .c of Guichet includes
//  this one header first.
#ifndef GCH_H_INCLUDED
#define GCH_H_INCLUDED

#include <czmq.h>
#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>

#include "envelope.pb-c.h"
#include "status.pb-c.h"
#include "events.pb-c.h"
#include "accounts.pb-c.h"
#include "dossiers.pb-c.h"

#include "gch_status.h"
#include "gch_config.h"
#include "gch_util.h"
#include "gch_client.h"
#include "gch_worker.h"
#include "gch_broker.h"
#include "gch_reply.h"
#include "gch_db.h"
#include "gch_outbox.h"
#include "gch_service.h"
#include "gch_redis.h"
#include "gch_cache.h"
#include "gch_jsonschema.h"

#endif
