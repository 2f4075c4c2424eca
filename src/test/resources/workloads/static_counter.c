/*
 * static_counter: counter.c built with -static (see Gcc's per-workload flags),
 * so the process has no dynamic loader, no libc.so mapping and a different
 * address-space layout. Same arguments, output and signals as counter.c.
 */
#include "counter.c"
