/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Resident FIDO keys imported by the agent itself, without ssh-keygen:
 * the "resident-keys@tokagent" extension (tokagent --import-resident) and,
 * with --import-resident-on-plug, every security key that is plugged in
 * (or present when the agent starts).  The PIN is asked through askpass,
 * the sk helper loads the token's resident "ssh:" keys, and they are then
 * offered like added keys.  A key the agent already offers is left as it
 * is (with its constraints), not duplicated.
 */
#ifndef AGENT_RESIDENT_H
#define AGENT_RESIDENT_H

#include <stdint.h>

struct buf;
struct conn;

/*
 * The agent extension that imports a security key's resident keys.
 * Request body: nothing (every token present) or string device (one token,
 * e.g. "/dev/hidraw3" or "unix:PATH").  Reply: SSH_AGENT_EXTENSION_RESPONSE,
 * string name, uint32 keys imported, uint32 keys that were already loaded;
 * SSH_AGENT_EXTENSION_FAILURE when nothing could be imported.
 */
#define RESIDENT_EXT	"resident-keys@tokagent"

/*
 * resident_import: the RESIDENT_EXT extension (m after its name): ask the
 * PIN through askpass (again after a wrong one, up to 3 PINs), load the
 * resident "ssh:" keys of the token named, or of every security key
 * present, into the sk helper and offer them.  Refused on a forwarded
 * connection.  Always replies, now or later.
 */
void resident_import(struct conn *c, struct buf *m);
/*
 * resident_device_event: the sk helper saw the token at device (name: its
 * product name or path) plugged in (present 1) or pulled (0); called for
 * IPC_SK_DEVICE.  With --import-resident-on-plug a plug asks for the
 * token's PIN (one prompt per token at a time) and imports its resident
 * keys; a pull abandons that token's import.  Never blocks.
 */
void resident_device_event(const char *device, const char *name,
    int present);
#endif /* AGENT_RESIDENT_H */
