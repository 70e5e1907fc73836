/* tcp.c -- placeholder until the module lands. */
