/* stick.c -- placeholder until the module lands. */
