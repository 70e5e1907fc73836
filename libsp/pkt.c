/* pkt.c -- placeholder until the module lands. */
