"""Order writes: the cart (cart.py), checkout with stock reservations (checkout.py) and
the vendor order lifecycle (fulfilment.py)."""
