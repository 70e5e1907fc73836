/* sp/conf.h -- placeholder. */
