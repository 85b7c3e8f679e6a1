"""Creating wallets: each gets its own Ed25519 holder key and did:key."""

from sqlmodel import Session

from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore
from wallet_web.models import Wallet


def create_wallet(session: Session, key_store: KeyStore, display_name: str) -> Wallet:
    """Create a wallet with a new holder key sealed in the key store.

    The caller commits. The holder DID is the key's did:key, so presentations
    the wallet signs verify without any network.
    """
    key_pair = Ed25519KeyPair.generate()
    key_store.add(session, key_pair)
    session.flush()
    wallet = Wallet(
        holder_did=key_pair.did,
        holder_key_id=key_pair.verification_method_id,
        display_name=display_name,
    )
    session.add(wallet)
    session.flush()
    return wallet


def holder_did_of(session: Session, wallet_id: int) -> str:
    """Return the holder DID of a wallet.

    :raises LookupError: if no wallet has that id.
    """
    wallet = session.get(Wallet, wallet_id)
    if wallet is None:
        raise LookupError(f"No wallet has id {wallet_id}.")
    return wallet.holder_did
