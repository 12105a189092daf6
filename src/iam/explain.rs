pub fn explain(_: &crate::iam::Evaluation, _: &crate::iam::Request) -> crate::finding::Finding { todo!() }
