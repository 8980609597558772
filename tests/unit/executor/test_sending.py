from services.executor.sending import Answer, EndpointAnswer, Verdict, classify_error, verdict


def test_classify_node_messages():
    assert classify_error("already known") is Answer.ALREADY_KNOWN
    assert classify_error("ALREADY_EXISTS: already known") is Answer.ALREADY_KNOWN
    assert classify_error("nonce too low: next nonce 5, tx nonce 4") is Answer.NONCE_TOO_LOW
    assert classify_error("nonce too high") is Answer.NONCE_TOO_HIGH
    assert classify_error("insufficient funds for gas * price + value") is Answer.REJECTED


def a(kind, name="x"):
    return EndpointAnswer(name, kind)


def test_verdicts():
    assert verdict([a(Answer.TRANSPORT), a(Answer.ACCEPTED)]) is Verdict.SENT
    assert verdict([a(Answer.ALREADY_KNOWN)]) is Verdict.SENT
    assert verdict([a(Answer.NONCE_TOO_LOW), a(Answer.REJECTED)]) is Verdict.NONCE_TOO_LOW
    assert verdict([a(Answer.TRANSPORT), a(Answer.REJECTED)]) is Verdict.UNCERTAIN
    assert verdict([a(Answer.NONCE_TOO_HIGH)]) is Verdict.NONCE_TOO_HIGH
    assert verdict([a(Answer.REJECTED), a(Answer.REJECTED)]) is Verdict.REJECTED
    assert verdict([]) is Verdict.UNCERTAIN
