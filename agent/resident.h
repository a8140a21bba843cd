/*
 * Resident FIDO keys imported by the agent itself, without ssh-keygen:
 * the "resident-keys@tokagent" extension (tokagent --import-resident) asks
 * the PIN through askpass and has the sk helper load every token's
 * resident "ssh:" keys, which are then offered like added keys.
 */
#ifndef AGENT_RESIDENT_H
#define AGENT_RESIDENT_H

struct buf;
struct conn;

/* The agent extension that imports a security key's resident keys. */
#define RESIDENT_EXT	"resident-keys@tokagent"

/*
 * resident_import: the RESIDENT_EXT extension (m after its name): ask the
 * PIN through askpass, load the resident "ssh:" keys of every security key
 * present into the sk helper and offer them.  Replies
 * SSH_AGENT_EXTENSION_RESPONSE with the name and a uint32 count.
 */
void resident_import(struct conn *c, struct buf *m);
/*
 * resident_device_event: the sk helper saw the token at device (name: its
 * product name or path) plugged in (present 1) or pulled (0).
 */
void resident_device_event(const char *device, const char *name,
    int present);

#endif /* AGENT_RESIDENT_H */
