/* sp/flow.h -- placeholder. */
