// The C surface Drover uses: libzmq (Debian's libzmq3-dev, 4.3.x) and the Linux
// eventfd used to wake a poll loop from another thread.
#include <zmq.h>
#include <sys/eventfd.h>

// Declared only in zmq.h's DRAFT section, but the stable 4.3.4 library accepts it.
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif
