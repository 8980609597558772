// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IFlashReceivers {
    function receiveFlashLoan(address[] memory tokens, uint256[] memory amounts, uint256[] memory fees, bytes memory data)
        external;
    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool);
    function uniswapV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata data) external;
}

/// @notice Attack helper: calls a victim's flash-loan callbacks without having lent anything
/// (Balancer, Aave and Uniswap V3 shapes). A correct victim rejects every call.
contract FakeLender {
    /// Balancer-shaped flashLoan that calls back without lending anything.
    function flashLoan(address recipient, address[] memory tokens, uint256[] memory amounts, bytes memory userData)
        external
    {
        uint256[] memory fees = new uint256[](tokens.length);
        IFlashReceivers(recipient).receiveFlashLoan(tokens, amounts, fees, userData);
    }

    function attackBalancer(address victim, address token, uint256 amount, bytes calldata data) external {
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory fees = new uint256[](1);
        tokens[0] = token;
        amounts[0] = amount;
        IFlashReceivers(victim).receiveFlashLoan(tokens, amounts, fees, data);
    }

    function attackAave(address victim, address token, uint256 amount, address initiator, bytes calldata data) external {
        IFlashReceivers(victim).executeOperation(token, amount, 0, initiator, data);
    }

    function attackUniswapFlash(address victim, bytes calldata data) external {
        IFlashReceivers(victim).uniswapV3FlashCallback(0, 0, data);
    }
}
