/** DI token of the `BridgeConfig`: `constructor(@Inject(BRIDGE_CONFIG) config: BridgeConfig)`. */
export const BRIDGE_CONFIG: unique symbol = Symbol('BRIDGE_CONFIG');
