/* Native half of the handshake_external pair: the same events through sesscache's handshake hooks. */
#include "../hooks_native.h"
#include "../pair_common.h"
#include "cases.h"
