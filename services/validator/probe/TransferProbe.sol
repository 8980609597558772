// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Fee-on-transfer detector, never deployed: the validator installs its runtime code with an
/// eth_call state override at two addresses, a holder of the token (a pool of the path) and the
/// executor contract, so both transfers of a trade's shape are tried with real balances:
/// holder -> executor (a swap paying out) and executor -> holder (paying a pool back).
/// probe() returns what each side really received; a clean token gives (amount, amount).
interface IERC20Probe {
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
}

contract TransferProbe {
    function probe(address token, address peer, uint256 amount) external returns (uint256 received, uint256 returned) {
        uint256 peerBefore = IERC20Probe(token).balanceOf(peer);
        _transfer(token, peer, amount);
        received = IERC20Probe(token).balanceOf(peer) - peerBefore;
        uint256 selfBefore = IERC20Probe(token).balanceOf(address(this));
        TransferProbe(peer).sendBack(token, received);
        returned = IERC20Probe(token).balanceOf(address(this)) - selfBefore;
    }

    function sendBack(address token, uint256 amount) external {
        _transfer(token, msg.sender, amount);
    }

    function _transfer(address token, address to, uint256 amount) private {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(IERC20Probe.transfer.selector, to, amount));
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), "transfer failed");
    }
}
