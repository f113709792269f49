/* Native half of the handshake_tls12 pair: the same events through sesscache's handshake hooks. */
#include "../hooks_native.h"
#include "../pair_common.h"
#include "cases.h"
